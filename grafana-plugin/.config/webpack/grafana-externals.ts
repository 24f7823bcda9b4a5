// The libraries Grafana shares with plugins at run time (its SystemJS shared modules): the
// plugin's module.js imports them from Grafana instead of bundling its own copy, since a second
// React or @grafana/* would break hooks and context. react/jsx-runtime is not in the list: only
// Grafana >= 12.3 shares it, so JSX compiles to React.createElement instead.
import type { ExternalItem, ExternalItemFunctionData } from 'webpack';

const sharedPackages: ExternalItem[] = [
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
];

// rxjs/operators and the other subpaths of rxjs are shared too.
function rxjsSubpath(
  { request }: ExternalItemFunctionData,
  callback: (err?: Error | null, result?: string) => void,
): void {
  if (request && /^rxjs\//.test(request)) callback(undefined, request);
  else callback();
}

export const grafanaExternals: ExternalItem[] = [...sharedPackages, rxjsSubpath];
