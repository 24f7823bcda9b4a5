// Jest for the plugin frontend (create-plugin style): jsdom, @swc/jest for TypeScript and
// JSX, and a transform for the ES-module-only packages @grafana/ui pulls in (d3-*, ol...),
// which Jest's CommonJS runtime cannot load as they are.
const path = require('node:path');

// Packages shipped only as ES modules (.mjs or "type": "module") that must be compiled.
const esModules = [
  'd3',
  'd3-[a-z-]+',
  'internmap',
  'delaunator',
  'robust-predicates',
  'ol',
  'react-colorful',
  'rxjs',
  'uuid',
  'marked',
  '@grafana/schema',
  'ua-parser-js',
  'color-[a-z-]+',
  'nanoid',
  'react-calendar',
  'get-user-locale',
  'memoize',
  'mimic-function',
  '@wojtekmaj/[a-z-]+',
];

module.exports = {
  rootDir: path.resolve(__dirname, '..'),
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  setupFilesAfterEnv: ['<rootDir>/.config/jest-setup.ts'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', tsx: true },
          transform: { react: { runtime: 'classic' } },
          target: 'es2022',
        },
      },
    ],
    '^.+\\.mjs$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esModules.join('|')})/)`],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': '<rootDir>/.config/jest/style-mock.cjs',
    '^react-inlinesvg$': '<rootDir>/.config/jest/react-inlinesvg.cjs',
    // The collector's NodeNext sources import siblings as './x.js'.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  watchPathIgnorePatterns: ['<rootDir>/dist'],
};
