// Bundled in place of iconv-lite for Lambda: only charset decoding in Bolt's HTTP and Express receivers uses it, and Keyturn's
// Lambda runs AwsLambdaReceiver alone (deploy/lambda-stubs/README.md). Loading it is harmless; using it throws.
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined;
      throw new Error(`iconv-lite is not bundled for Lambda (deploy/lambda-stubs); ${String(key)} was used`);
    },
  },
);
