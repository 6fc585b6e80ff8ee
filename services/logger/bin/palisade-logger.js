#!/usr/bin/env node
// The committed launcher of palisade-logger (see @palisade/service-kit/launcher).
import { launchBuilt } from '@palisade/service-kit/launcher';

await launchBuilt('palisade-logger', new URL('../dist/main.js', import.meta.url));
