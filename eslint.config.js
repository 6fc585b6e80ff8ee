import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/gen/**', 'scripts/**', '*.config.*', 'eslint.config.js', '**/bin/*.js', 'packages/service-kit/launcher/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // The language and compiler packages are pure: no I/O, no platform modules.
    files: ['packages/fw-lang/src/**/*.ts', 'packages/nft-ir/src/**/*.ts', 'packages/fw-compile/src/**/*.ts', 'packages/nft-netlink/src/codec/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net'], message: 'pure package: no I/O' }] },
      ],
    },
  },
);
