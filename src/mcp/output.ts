/** Output kept within a byte budget: the first and the last half, with a note saying where and how much was cut. */
export class CappedOutput {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail = Buffer.alloc(0);
  private total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.limit / 2);
    if (this.headBytes < half) {
      const take = chunk.subarray(0, half - this.headBytes);
      this.head.push(Buffer.from(take));
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (this.limit - half))));
  }

  get bytes(): number {
    return this.total;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const cut = this.total - this.headBytes - this.tail.length;
    if (cut <= 0) return head + this.tail.toString('utf8');
    return `${head}\n[aca: ${cut} bytes of output cut here; ${this.total} in all]\n${this.tail.toString('utf8')}`;
  }
}
