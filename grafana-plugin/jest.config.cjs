// The create-plugin layout: the shared settings live in .config/, this file may extend them.
module.exports = require('./.config/jest.config.cjs');
