// @grafana/ui's icons fetch their SVG files (react-inlinesvg); tests render an empty <svg>
// instead, so no request is made and no state update lands after a test ends.
const React = require('react');

function InlineSVG({ src, title, className }) {
  return React.createElement('svg', { 'data-src': src, className }, title);
}

module.exports = InlineSVG;
module.exports.default = InlineSVG;
module.exports.__esModule = true;
