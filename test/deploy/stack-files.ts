import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** What `npm run package` wrote (test/deploy/package-stack.ts runs it before these tests). */
export const ROOT = path.resolve(__dirname, '../..');
export const OUT_DIR = path.join(ROOT, '.serverless');
export const FUNCTIONS = ['slack', 'worker', 'sweeper', 'digest', 'sessionEvents', 'commandEvents'] as const;

export interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; [key: string]: unknown }>;
  Outputs: Record<string, { Value: unknown }>;
  Conditions?: Record<string, unknown>;
}

export function readTemplate(): Template {
  return JSON.parse(readFileSync(path.join(OUT_DIR, 'cloudformation-template-update-stack.json'), 'utf8'));
}

export interface ZipEntry {
  name: string;
  size: number;
  read(): Buffer;
}

/**
 * Just enough of the zip format to list a Lambda package and read its files (stored or deflated),
 * so the bundle tests need no unzip tool and no extra dependency. Reads the central directory
 * that the end-of-central-directory record points at (APPNOTE.TXT 4.3.12, 4.3.16).
 */
export function readZip(file: string): ZipEntry[] {
  const zip = readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file}: not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    entries.push({
      name,
      size,
      read() {
        const dataStart =
          localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
        const data = zip.subarray(dataStart, dataStart + compressedSize);
        if (method === 0) return Buffer.from(data);
        if (method === 8) return inflateRawSync(data);
        throw new Error(`${file}: ${name} uses compression method ${method}`);
      },
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
