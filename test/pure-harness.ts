// The pure runner lives with the engine (benchmarks use it too); tests import it from here.
export { PureRunner } from '../engine/pure-runner.ts';
