/** Keyturn refused to start (a setting, the state directory, another Keyturn): the message says what to do. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly code = 'STARTUP_REFUSED';
}
