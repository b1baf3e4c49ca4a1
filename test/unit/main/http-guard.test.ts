import type { IncomingMessage, ServerResponse } from 'node:http';
import { guardRequests } from '../../../src/main/http-guard';
import type { Logger } from '../../../src/ports/logger';

function fakeResponse(headersSent = false) {
  const res = {
    headersSent,
    status: 0,
    body: '',
    destroyed: false,
    writeHead(status: number) {
      res.status = status;
      return res;
    },
    end(body: string) {
      res.body = body;
    },
    destroy() {
      res.destroyed = true;
    },
  };
  return res;
}

function recordingLogger() {
  const errors: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (fields) => errors.push(fields),
  };
  return { logger, errors };
}

const req = { method: 'GET', url: '/sandbox/response/abc?token=secret' } as IncomingMessage;

describe('guardRequests', () => {
  it('a handler that throws costs its request a 500, logged without the query string, and nothing else', () => {
    const { logger, errors } = recordingLogger();
    const res = fakeResponse();
    guardRequests(logger, () => {
      throw new Error('boom');
    })(req, res as unknown as ServerResponse);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ ok: false, error: 'internal error' });
    expect(errors).toEqual([{ err: 'boom', method: 'GET', path: '/sandbox/response/abc' }]);
  });

  it('a handler whose promise rejects is answered 500 too', async () => {
    const { logger } = recordingLogger();
    const res = fakeResponse();
    guardRequests(logger, async () => {
      throw new Error('later');
    })(req, res as unknown as ServerResponse);
    await new Promise((resolve) => setImmediate(resolve));
    expect(res.status).toBe(500);
  });

  it('cuts the connection when the answer had already started', () => {
    const { logger } = recordingLogger();
    const res = fakeResponse(true);
    guardRequests(logger, () => {
      throw new Error('mid-answer');
    })(req, res as unknown as ServerResponse);
    expect(res.destroyed).toBe(true);
    expect(res.status).toBe(0);
  });
});
