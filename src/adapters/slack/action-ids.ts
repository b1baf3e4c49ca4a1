/**
 * Every id Slack sends back to Keyturn in an interaction payload, in one place, so the Block Kit
 * builders and the Bolt listeners cannot drift apart. Slack caps action_id, block_id and
 * callback_id at 255 characters (https://docs.slack.dev/reference/block-kit/block-elements).
 */

/** Approve button on a request card; its `value` is the grant id. */
export const ACTION_APPROVE = 'keyturn.grant.approve';
/** Deny button on a request card; its `value` is the grant id. Opens the deny-reason modal. */
export const ACTION_DENY = 'keyturn.grant.deny';

/** callback_id of the deny-reason modal; its `private_metadata` is the grant id. */
export const VIEW_DENY_REASON = 'keyturn.grant.deny-reason';
/** block_id of the modal's reason input: `view.state.values[BLOCK_DENY_REASON][INPUT_DENY_REASON].value`. */
export const BLOCK_DENY_REASON = 'keyturn.grant.deny-reason.block';
export const INPUT_DENY_REASON = 'keyturn.grant.deny-reason.input';

/** Extend button in the ready and warning DMs; its `value` is the grant id. */
export const ACTION_EXTEND = 'keyturn.grant.extend';
/** "I'm done" button in the ready and warning DMs; its `value` is the grant id. Ends access now. */
export const ACTION_RELEASE = 'keyturn.grant.release';

/** Approve button on an extension card; its `value` is the grant id (one extension per grant at a time). */
export const ACTION_EXTENSION_APPROVE = 'keyturn.extension.approve';
/** Deny button on an extension card; its `value` is the grant id. Opens the extension deny-reason modal. */
export const ACTION_EXTENSION_DENY = 'keyturn.extension.deny';

/**
 * callback_id of the extension deny-reason modal; its `private_metadata` is the grant id. The reason
 * input reuses BLOCK_DENY_REASON / INPUT_DENY_REASON, so one reader serves both modals.
 */
export const VIEW_EXTENSION_DENY_REASON = 'keyturn.extension.deny-reason';

/** Approve button on a run's approval card (a snippet with `approval: true`); its `value` is the run id. */
export const ACTION_RUN_APPROVE = 'keyturn.run.approve';
/** Deny button on a run's approval card; its `value` is the run id. Denies at once (a run is cheap to ask again). */
export const ACTION_RUN_DENY = 'keyturn.run.deny';

/** callback_id of the global shortcut "Request access" (slack-app-manifest.yml): opens the request form. */
export const SHORTCUT_REQUEST_ACCESS = 'keyturn.request.shortcut';
/** callback_id of the request form a bare `/access` or the shortcut opens. */
export const VIEW_REQUEST_FORM = 'keyturn.request.form';
/** The request form's inputs: `view.state.values[BLOCK_…][INPUT_…]`. */
export const BLOCK_REQUEST_TARGET = 'keyturn.request.target.block';
export const INPUT_REQUEST_TARGET = 'keyturn.request.target.input';
export const BLOCK_REQUEST_DURATION = 'keyturn.request.duration.block';
export const INPUT_REQUEST_DURATION = 'keyturn.request.duration.input';
export const BLOCK_REQUEST_REASON = 'keyturn.request.reason.block';
export const INPUT_REQUEST_REASON = 'keyturn.request.reason.input';

/** callback_id of the run form a bare `/run` opens (pick what to run); `private_metadata` is the channel. */
export const VIEW_RUN_FORM = 'keyturn.run.form';
/** callback_id of the run form's second step (the snippet's parameters). */
export const VIEW_RUN_PARAMS = 'keyturn.run.params';
export const BLOCK_RUN_PICK = 'keyturn.run.pick.block';
export const INPUT_RUN_PICK = 'keyturn.run.pick.input';
/** One input block per parameter: `keyturn.run.param.<name>`; its input is INPUT_RUN_PARAM. */
export const BLOCK_RUN_PARAM_PREFIX = 'keyturn.run.param.';
export const INPUT_RUN_PARAM = 'keyturn.run.param.input';

/** Cancel button on the requester's App Home, next to a pending request; its `value` is the grant id. */
export const ACTION_CANCEL = 'keyturn.grant.cancel';
/** Revoke button on an approver's App Home, next to an active grant on their target; its `value` is the grant id. */
export const ACTION_REVOKE = 'keyturn.grant.revoke';
