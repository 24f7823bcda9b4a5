// Downloads what the test servers need ahead of the test run, so a slow download
// shows up as its own phase rather than as a test timeout. Offline after the first run.
import { ELASTICSEARCH_VERSION, ensureElasticsearchHome } from '@sluice/testkit';

const home = ensureElasticsearchHome();
console.log(`Elasticsearch ${ELASTICSEARCH_VERSION}: ${home}`);
