// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'dist-fuzz/**',
      '.fuzz/**',
      '.bench/**',
      'node_modules/**',
      'coverage/**',
      'test/fixtures/**',
      'samples/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Layering of docs/design.md: a module imports only the modules left of it in the flow.
    files: ['src/ctf/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/text/**',
            '**/filter/**',
            '**/model/**',
            '**/analyses/**',
            '**/containers/**',
            '**/record/**',
            '**/relay/**',
            '**/ust/**',
            '**/cli/**',
          ],
        },
      ],
    },
  },
  {
    files: ['src/containers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/ctf/**',
            '**/text/**',
            '**/filter/**',
            '**/model/**',
            '**/analyses/**',
            '**/record/**',
            '**/relay/**',
            '**/ust/**',
            '**/cli/**',
          ],
        },
      ],
    },
  },
  {
    files: ['src/text/**/*.ts', 'src/filter/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/analyses/**',
            '**/record/**',
            '**/relay/**',
            '**/ust/**',
            '**/cli/**',
            '**/containers/**',
          ],
        },
      ],
    },
  },
  {
    files: ['src/analyses/**/*.ts', 'src/record/**/*.ts', 'src/relay/**/*.ts', 'src/ust/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli/**'] }],
    },
  },
  {
    // The synthetic traces (tests', benchmarks' and the sample's data) sit beside the analyses:
    // they write with ctf and read back with model; the analyses and sql never import them.
    files: ['src/analyses/**/*.ts', 'src/sql/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli/**', '**/synthetic/**'] }],
    },
  },
  {
    files: ['src/synthetic/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/analyses/**',
            '**/sql/**',
            '**/containers/**',
            '**/record/**',
            '**/relay/**',
            '**/ust/**',
            '**/view/**',
            '**/cli/**',
          ],
        },
      ],
    },
  },
  {
    // The view's server side sits after the analyses (it is the web output of docs/design.md).
    files: ['src/view/*.ts'],
    ignores: ['src/view/types.ts', 'src/view/store.ts', 'src/view/aggregate.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/cli/**'] }],
    },
  },
  {
    // What the page bundles: no Node, nothing of the server side (docs/adr/0200-view-architecture.md).
    files: ['src/view/page/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            '../../*',
            '../build*',
            '../collect*',
            '../events*',
            '../export*',
            '../server*',
            '../page-html*',
          ],
        },
      ],
    },
  },
  {
    files: ['src/view/types.ts', 'src/view/store.ts', 'src/view/aggregate.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            '../*',
            './build*',
            './collect*',
            './events*',
            './export*',
            './server*',
            './page*',
          ],
        },
      ],
    },
  },
);
