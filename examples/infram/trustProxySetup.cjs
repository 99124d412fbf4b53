// Optional: Infram's server/utils/trustProxySetup.js, beside the drop-in requestIp.js.
// One line in server/index.js, right after app.set("trust proxy", trustProxyConfig):
//
//     require("./utils/trustProxySetup")(app, logger);
//
// It prints what TRUST_PROXY means and its warnings through Infram's logger (so they reach
// data/logs, not only stderr), and mounts the middleware that resolves every HTTP request and
// express-ws upgrade once, when it arrives: req.clientIp and req.clientInfo (peer, chain, anomalies).
"use strict";

const { trustPolicy, clientIpMiddleware } = require("./requestIp");

module.exports = (app, logger) => {
    logger.system("Client IP policy", { trustProxy: String(trustPolicy), kind: trustPolicy.kind });
    for (const warning of trustPolicy.warnings) logger.warn(`TRUST_PROXY: ${warning.message}`, { code: warning.code });
    app.use(clientIpMiddleware);
};
