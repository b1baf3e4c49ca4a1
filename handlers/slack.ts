import { slackHandler } from '../src/main/lambda-slack';

/** API Gateway → Bolt's AwsLambdaReceiver: listeners validate, write once, enqueue, ack. */
export const handler = slackHandler();
