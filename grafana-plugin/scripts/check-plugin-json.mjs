// Validates a plugin.json against Grafana's plugin.json JSON schema (draft-07), the check the
// plugin validator's metadatavalid analyzer makes after downloading the schema, which it
// cannot do offline. Usage: node check-plugin-json.mjs SCHEMA PLUGIN_JSON
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const [schemaPath, pluginPath] = process.argv.slice(2);
if (!schemaPath || !pluginPath) {
  console.error('usage: check-plugin-json.mjs SCHEMA PLUGIN_JSON');
  process.exit(2);
}
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const plugin = JSON.parse(readFileSync(pluginPath, 'utf8'));
// The schema names its own draft, which ajv knows without the reference; its patterns are
// ECMAScript regexps written without the u flag (\- escapes).
delete schema.$schema;
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);
if (validate(plugin)) {
  console.log(`${pluginPath}: valid against ${schemaPath}`);
} else {
  for (const e of validate.errors ?? []) {
    console.error(
      `${pluginPath}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
    );
  }
  process.exit(1);
}
