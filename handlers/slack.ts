import { slackHandler } from '../src/main/lambda';

/** API Gateway → Bolt's AwsLambdaReceiver: listeners validate, write once, enqueue, ack. */
export const handler = slackHandler();
