#!/usr/bin/env node
// The committed launcher of palisade-configd (see @palisade/service-kit/launcher).
import { launchBuilt } from '@palisade/service-kit/launcher';

await launchBuilt('palisade-configd', new URL('../dist/main.js', import.meta.url));
