/**
 * Runs the built `main(argv)` of a service; when `mainUrl` (its dist/main.js) is missing, says
 * to run `npm run build` and exits 2.
 */
export declare function launchBuilt(program: string, mainUrl: URL, argv?: readonly string[]): Promise<void>;
