// Bundled in place of @aws-sdk/credential-provider-node, the SDK's default credential chain, for Lambda: there the
// function's role credentials are always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), the chain's first link. Its other links (SSO, shared ini files, credential_process, web
// identity, container and instance metadata) and the STS/SSO clients they bring are dead weight on every cold start
// (deploy/lambda-stubs/README.md). Every client's default provider reads the environment, and says so if it is empty.
const { fromEnv } = require('@aws-sdk/credential-provider-env');

exports.defaultProvider = (init) => {
  const fromEnvironment = fromEnv(init);
  return async () => {
    try {
      return await fromEnvironment();
    } catch (error) {
      throw new Error(
        'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): on Lambda the runtime sets them; this bundle reads nothing else (deploy/lambda-stubs)',
        { cause: error },
      );
    }
  };
};
