// A CPU profile of one measured phase only (not the set-up or the event generation around it),
// through the inspector in this process. Written as a .cpuprofile (Chrome DevTools, speedscope).

import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { summariseProfile } from './cpu-profile-summary.ts';

export class PhaseProfiler {
  private readonly session = new Session();

  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
    });
  }

  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: 200 });
    await this.post('Profiler.start');
  }

  /** Stops, writes the profile to `path`; returns lines naming the top functions by self time. */
  async stop(path: string, top = 15): Promise<string[]> {
    const { profile } = await this.post<{ profile: Parameters<typeof summariseProfile>[0] }>('Profiler.stop');
    await this.post('Profiler.disable');
    this.session.disconnect();
    writeFileSync(path, JSON.stringify(profile));
    const s = summariseProfile(profile);
    return [
      `CPU profile of the throughput phase → ${path}; top self time:`,
      ...s.functions.slice(0, top).map((f) => `  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}  ${f.location}`),
    ];
  }
}
