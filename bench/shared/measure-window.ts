// The measured window of a closed-loop comparison bench (reservations, loyalty): a warm-up that
// is run but not counted, then `seconds` whose answers count, and the CPU that this process (the
// client) and the server used over exactly that window.

export interface WindowCpu {
  /** Cores used by this process (the client) over the window. */
  clientCpuCores: number;
  /** Cores used by the server's processes, when known. */
  serverCpuCores?: number;
}

export class MeasureWindow {
  readonly from: number;
  readonly until: number;
  private cpu0 = process.cpuUsage();
  private server0: number | undefined;
  private at0: number;
  private cpu1: NodeJS.CpuUsage | undefined;
  private server1: number | undefined;
  private at1: number;
  private readonly timers: NodeJS.Timeout[];
  private broken = false;

  /** Starts now. */
  constructor(warmupSeconds: number, seconds: number, private readonly serverCpuSeconds: () => number | undefined) {
    const start = performance.now();
    this.from = start + warmupSeconds * 1000;
    this.until = this.from + seconds * 1000;
    this.server0 = serverCpuSeconds();
    this.at0 = start;
    this.at1 = this.until;
    // CPU is sampled at the window's edges by timers; a late timer shifts both samples alike.
    // Unref'd: a bench whose clients failed is not kept alive by them.
    this.timers = [setTimeout(() => this.open(), warmupSeconds * 1000).unref(), setTimeout(() => this.close(), (warmupSeconds + seconds) * 1000).unref()];
  }

  /** True for an answer at `t` (performance.now()) that counts. */
  inWindow(t: number): boolean {
    return t >= this.from && t < this.until;
  }

  /** Whether a client should send another request: the window is not over and no client failed. */
  running(): boolean {
    return !this.broken && performance.now() < this.until;
  }

  /** Runs `count` closed-loop clients until running() says stop; the window's CPU once all are done. */
  async runClients(count: number, client: (i: number) => Promise<void>): Promise<WindowCpu> {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client(i).catch((error: unknown) => {
          this.broken = true; // one failed client voids the comparison: stop the others too
          throw error;
        }),
      ),
    );
    return this.finish();
  }

  private open(): void {
    this.cpu0 = process.cpuUsage();
    this.server0 = this.serverCpuSeconds();
    this.at0 = performance.now();
  }

  private close(): void {
    this.cpu1 = process.cpuUsage(this.cpu0);
    this.server1 = this.serverCpuSeconds();
    this.at1 = performance.now();
  }

  private finish(): WindowCpu {
    for (const t of this.timers) clearTimeout(t);
    // Every client was done before the end-of-window timer ran: sample now.
    if (this.cpu1 === undefined) this.close();
    const cpu = this.cpu1!;
    const ms = Math.max(1, this.at1 - this.at0);
    return {
      clientCpuCores: (cpu.user + cpu.system) / 1000 / ms,
      serverCpuCores: this.server0 !== undefined && this.server1 !== undefined ? (this.server1 - this.server0) / (ms / 1000) : undefined,
    };
  }
}
