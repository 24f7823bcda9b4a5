// Frontend bundle of the plugin, as Grafana loads it: one AMD module (dist/module.js, with its
// source map) whose shared libraries come from Grafana at run time (externals).
//
// This file follows the @grafana/create-plugin layout: .config/ holds the create-plugin-managed
// build configuration (webpack, Jest, TypeScript) and the plugin's own files live in src/. It is
// written for this plugin rather than generated: swc-loader compiles TypeScript and JSX, and the
// Makefile (mage, Magefile.go) builds the backend, plugin.json and img/.
//
// webpack-cli loads this TypeScript config through tsx, which the npm scripts and
// scripts/build.sh register with NODE_OPTIONS=--import=tsx.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration } from 'webpack';
import { grafanaExternals } from './grafana-externals';

/** The --env flags webpack-cli passes (`--env production`). */
interface Env {
  production?: boolean;
}

const PLUGIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIR = path.join(PLUGIN_DIR, 'src');
const DIST_DIR = path.join(PLUGIN_DIR, 'dist');

const pluginId: string = JSON.parse(readFileSync(path.join(SOURCE_DIR, 'plugin.json'), 'utf8')).id;

const config = (env: Env = {}): Configuration => {
  const production = Boolean(env.production);
  return {
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-source-map',
    context: SOURCE_DIR,
    entry: { module: './module.ts' },
    output: {
      path: DIST_DIR,
      filename: '[name].js',
      library: { type: 'amd' },
      // Grafana serves the plugin's files under public/plugins/<id>/.
      publicPath: `public/plugins/${pluginId}/`,
      uniqueName: pluginId,
    },
    externals: grafanaExternals,
    externalsType: 'amd',
    resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                baseUrl: SOURCE_DIR,
                target: 'es2020',
                parser: { syntax: 'typescript', tsx: true, decorators: false },
                transform: { react: { runtime: 'classic' } },
              },
            },
          },
        },
      ],
    },
    performance: { hints: false },
    stats: production ? 'errors-warnings' : 'normal',
  };
};

export default config;
