import type { HttpPost } from '../../src/adapters/aws/signed-json';

/** Credentials and region as Lambda sets them, for the signed adapters (src/adapters/aws/signed-*.ts). */
export const SIGNED_ENV = {
  AWS_REGION: 'ap-northeast-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'session-token',
};

export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A `post` that records each request and gives the answers in order; past the last, the connection drops. */
export function fakePost(answers: { status: number; body: unknown; headers?: Record<string, string> }[]) {
  const sent: SentRequest[] = [];
  const post: HttpPost = async (url, init) => {
    sent.push({ url: String(url), headers: init.headers, body: init.body });
    const answer = answers.shift();
    if (!answer) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return { status: answer.status, text: JSON.stringify(answer.body), headers: answer.headers ?? {} };
  };
  return { post, sent };
}
