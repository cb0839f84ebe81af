// ESLint flat config. Three layers:
//  1. every TypeScript file: strict typed rules (no any, no non-null assertions,
//     no floating promises, explicit module boundary types, type-only imports);
//  2. core/: the sans-I/O rule set (DESIGN.md §1). The core never reads a clock,
//     draws randomness, sets timers, awaits, or reaches for I/O or the outer layers.
//     test/fixtures/lint/core/ holds a file that breaks every one of these rules;
//     test/lint/core-rules.test.ts proves each rule fires on it;
//  3. every source file outside test/: no function over 80 lines (a reader can hold
//     one function in view; longer ones are split into named steps).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbiddenGlobals = [
  { name: 'Date', message: 'core/ is sans-I/O: time comes in through tick() or an injected Clock.' },
  { name: 'performance', message: 'core/ is sans-I/O: no wall-clock measurements.' },
  { name: 'setTimeout', message: 'core/ is sans-I/O: the driver owns timers; the core counts ticks.' },
  { name: 'setInterval', message: 'core/ is sans-I/O: the driver owns timers; the core counts ticks.' },
  { name: 'setImmediate', message: 'core/ is sans-I/O: the driver owns scheduling.' },
  { name: 'queueMicrotask', message: 'core/ is sans-I/O: the driver owns scheduling.' },
  { name: 'clearTimeout', message: 'core/ is sans-I/O: the driver owns timers.' },
  { name: 'clearInterval', message: 'core/ is sans-I/O: the driver owns timers.' },
  { name: 'fetch', message: 'core/ is sans-I/O: no network access.' },
  { name: 'process', message: 'core/ is sans-I/O: no process state (hrtime, env, argv).' },
  { name: 'require', message: 'core/ is sans-I/O: no dynamic module loading.' },
];

const forbiddenImports = {
  patterns: [
    { group: ['node:*', 'fs', 'net', 'http', 'http2', 'https', 'dgram', 'child_process', 'worker_threads', 'timers', 'os', 'crypto'],
      message: 'core/ is sans-I/O: no Node I/O modules; the world comes in through ports.' },
    { group: ['**/sim/**', '**/net/**', '**/storage/**', '**/jepsen-like/**'],
      message: 'Dependencies point inwards: core/ must not import sim/, net/, storage/ or jepsen-like/.' },
    { group: ['seedrandom', 'lmdb', '@grpc/*'],
      message: 'core/ takes randomness, storage and transport through ports, not libraries.' },
  ],
};

export default tseslint.config(
  { ignores: ['build/**', 'build.next/**', 'build.old/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['test/fixtures/lint/core/*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      // Invariant checks deliberately test conditions the types already promise.
      '@typescript-eslint/no-unnecessary-boolean-literal-compare': 'off',
      '@typescript-eslint/prefer-literal-enum-member': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['core/**/*.ts', 'test/fixtures/lint/core/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...forbiddenGlobals],
      'no-restricted-imports': ['error', forbiddenImports],
      'no-restricted-syntax': ['error',
        { selector: 'FunctionDeclaration[async=true], FunctionExpression[async=true], ArrowFunctionExpression[async=true]',
          message: 'core/ is synchronous: no async functions; completions come back as calls.' },
        { selector: 'AwaitExpression', message: 'core/ is synchronous: no await.' },
        { selector: 'MemberExpression[object.name="Math"][property.name="random"]',
          message: 'core/ is deterministic: randomness comes from an injected Random.' },
        { selector: 'ImportExpression', message: 'core/ is sans-I/O: no dynamic import().' },
      ],
    },
  },
  {
    files: ['core/**/*.ts', 'sim/**/*.ts', 'net/**/*.ts', 'storage/**/*.ts', 'jepsen-like/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
);
