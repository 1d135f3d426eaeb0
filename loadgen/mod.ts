// `omni loadgen` (contract §6) is built in issue E; until then the command says so plainly.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('omni loadgen: not available yet (issue E); use `omni bench http` for ingest load\n');
  return 2;
}
