// ESLint's and typescript-eslint's recommended rules, nothing stylistic (no formatter rules).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', '.tmp/', 'src/capture/native/build/', 'grafana/dashboards/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    // `const { a, ...rest } = x` is how an object is copied without `a`.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }] },
  },
);
