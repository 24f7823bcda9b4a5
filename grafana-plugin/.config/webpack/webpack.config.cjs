// Frontend bundle of the plugin, as Grafana loads it: one AMD module (dist/module.js) whose
// shared libraries come from Grafana at run time (externals). Plain CommonJS so that it runs
// on Node 20 without ts-node. The backend, plugin.json and img/ are built by the Makefile.
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const pluginJson = require(path.join(root, 'src/plugin.json'));

// What Grafana provides to plugins (its SystemJS shared modules); bundling a second copy of
// React or @grafana/* would break hooks and context. react/jsx-runtime is not in the list:
// only Grafana >= 12.3 shares it, so JSX compiles to React.createElement instead.
const externals = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/schema/i,
  // rxjs/operators and other subpaths of shared packages.
  ({ request }, callback) =>
    request && /^rxjs\//.test(request) ? callback(undefined, request) : callback(),
];

module.exports = (env = {}) => {
  const production = Boolean(env.production);
  return {
    mode: production ? 'production' : 'development',
    devtool: production ? 'source-map' : 'eval-source-map',
    context: path.join(root, 'src'),
    entry: { module: './module.ts' },
    output: {
      path: path.join(root, 'dist'),
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
    },
    externals,
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
                baseUrl: path.join(root, 'src'),
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
