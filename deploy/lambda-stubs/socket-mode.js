// Bundled in place of @slack/socket-mode for Lambda: only Socket Mode (SocketModeReceiver) uses it, and Keyturn's
// Lambda runs AwsLambdaReceiver alone (deploy/lambda-stubs/README.md). Loading it is harmless; using it throws.
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined;
      throw new Error(
        `@slack/socket-mode is not bundled for Lambda (deploy/lambda-stubs); ${String(key)} was used`,
      );
    },
  },
);
