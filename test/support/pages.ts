/** Every page of a paged read (DigestData's grants and sessions) as one list. */
export async function allPages<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}

/** `items` as pages of `size`: how a paged reader hands them over. */
export async function* inPages<T>(items: readonly T[], size: number): AsyncGenerator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
