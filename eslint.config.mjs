// Lint rules that protect the architecture (DESIGN §2):
// - floating promises hide failures in activities and the CLI;
// - workflows run in Temporal's deterministic sandbox, so they may import only core/ and
//   @temporalio/workflow: Node built-ins, tfjs and minio are errors there;
// - core/ is pure (it is imported by workflows), so the same ban applies to it;
// - layers below workflows (activities, storage, data, nn) never import workflows/: shared shapes live in core/.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const sandboxBan = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: 'Workflows and core/ must stay deterministic: no Node built-ins (DESIGN §2).',
  })),
  patterns: [
    { group: ['@tensorflow/*'], message: 'No tfjs in workflows or core/: tensors live in activities (DESIGN §2).' },
    { group: ['minio', 'minio/*'], message: 'No MinIO in workflows or core/: pass object references, do I/O in activities.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-artifacts/**', 'bin/**', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', sandboxBan],
      '@typescript-eslint/no-restricted-imports': ['error', sandboxBan],
    },
  },
  {
    files: ['activities/**/*.ts', 'storage/**/*.ts', 'data/**/*.ts', 'nn/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/workflows', '**/workflows/*'], message: 'Activities and the layers below them do not import workflows/: put shared types in core/ (DESIGN §2).' }],
      }],
    },
  },
);
