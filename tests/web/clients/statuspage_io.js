// Runs npm's statuspage.io client against the base URL given as the first argument and
// prints what each of its read calls returned, as one JSON document (see
// tests/web/test_statuspage_npm_clients.py).
"use strict";
const { Statuspage } = require("statuspage.io");

async function main(base) {
  const client = new Statuspage("slaledger");
  client.setApiUrl(base);
  const api = client.api;
  const out = {
    summary: await api.getSummary(),
    status: await api.getStatus(),
    components: await api.getComponents(),
    incidents: await api.incidents.getAll(),
    unresolved: await api.incidents.getUnresolved(),
    maintenances: await api.scheduledMaintenances.getAll(),
    upcoming: await api.scheduledMaintenances.getUpcoming(),
    active: await api.scheduledMaintenances.getActive(),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main(process.argv[2]).catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
