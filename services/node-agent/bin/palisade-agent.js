#!/usr/bin/env node
// The committed launcher of palisade-agent (see @palisade/service-kit/launcher).
import { launchBuilt } from '@palisade/service-kit/launcher';

await launchBuilt('palisade-agent', new URL('../dist/main.js', import.meta.url));
