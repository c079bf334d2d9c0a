// ESLint flat config: the JavaScript and typescript-eslint recommended rules, plus the promise rules
// that need type information on the application code. Layout is Prettier's job (`npm run lint` runs
// `prettier --check` after ESLint), so eslint-config-prettier turns every style rule off.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'client/dist/', '.build/', '.data/', 'node_modules/', 'bench/results/', 'bench/profiles/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Parameters and variables named `_…` are unused on purpose (callbacks with a fixed signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // A promise nobody awaits loses its error; these rules need the type checker, so they run on the
    // application code only (node:test's describe/test return promises that are meant to float).
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Tests read untyped JSON answers and poke at internals on purpose.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Mini program pages: App, Page, getApp and wx are the runtime's globals.
    files: ['client/examples/**/*.js'],
    languageOptions: { globals: { App: 'readonly', Page: 'readonly', getApp: 'readonly', wx: 'readonly' } },
  },
  prettier,
);
