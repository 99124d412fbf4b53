// Infram's server/utils/requestIp.js, on @infram/trust-proxy: a drop-in replacement.
//
// CommonJS, for Node 18 and later: it loads the package's CommonJS build, never require(esm).
// Same exports and signatures as before, so nothing else in Infram changes:
//   getClientIp(req, fallback = "unknown")  the canonical client IP, or the fallback
//   parseTrustProxy(raw)                    the value for Express's "trust proxy" setting
//   getTrustProxyConfig()                   the same for process.env.TRUST_PROXY
// plus trustPolicy, clientIpMiddleware, getAuditFields and rateLimitKeyGenerator.
//
// TRUST_PROXY is parsed when index.js first requires this file. A bad value (127.1, "1, 10.0.0.1")
// throws a TrustProxyError naming the entry, and Infram does not start: it never falls back to
// trusting nothing or everything. `1` now means one hop (it used to mean "trust every hop").
"use strict";

const { parseTrustProxy: parsePolicy, auditFields } = require("@infram/trust-proxy");
const { clientIp, expressTrust, rateLimitKeyGenerator: keyGenerator } = require("@infram/trust-proxy/express");
const { resolveRequest, checkListener } = require("@infram/trust-proxy/node");

const trustPolicy = parsePolicy(process.env.TRUST_PROXY);

const warn = (message, code) => process.emitWarning(message, { type: "TrustProxyWarning", code });

// The value for app.set("trust proxy", ...): false, true, a hop count, or the policy's trust
// function for a range list. Literal false and true keep express-rate-limit's own checks working.
// Infram logs this value at startup: a function prints as its TRUST_PROXY value, not its source.
const expressValue = (policy) => {
    const value = expressTrust(policy);
    if (typeof value !== "function") return value;
    const trust = (addr, hop) => value(addr, hop);
    trust.toString = trust.toJSON = () => policy.toString();
    return trust;
};

const parseTrustProxy = (rawValue) => expressValue(parsePolicy(rawValue));

let warned = false;
const getTrustProxyConfig = () => {
    // Called once by index.js at startup: the place to show what the value means.
    if (!warned) {
        warned = true;
        for (const warning of trustPolicy.warnings) warn(`TRUST_PROXY: ${warning.message}`, `TRUST_PROXY_${warning.code.toUpperCase().replace(/-/g, "_")}`);
    }
    return expressValue(trustPolicy);
};

let warnedPublicPeer = false;
const clientInfo = (req) => {
    if (req && req.clientInfo) return req.clientInfo; // set by clientIpMiddleware, when mounted
    // A hop count on a server other hosts can reach: one warning per server, at its first request.
    checkListener(req && req.socket && req.socket.server, trustPolicy);
    const info = resolveRequest(trustPolicy, req);
    if (!warnedPublicPeer && info.anomalies.includes("hop-count-public-peer")) {
        warnedPublicPeer = true;
        warn(
            `TRUST_PROXY=${trustPolicy} is a hop count and ${info.peer} connected directly: its own ` +
                "X-Forwarded-For was believed. Set TRUST_PROXY to the proxy's address instead.",
            "TRUST_PROXY_HOP_COUNT_PUBLIC_PEER",
        );
    }
    return info;
};

/** The client IP of an HTTP request or an express-ws upgrade, read whenever: never throws. */
const getClientIp = (req, fallback = "unknown") => {
    const ip = clientInfo(req).ip;
    return ip === undefined ? fallback : ip;
};

/** The audit-log fields of a request: client_ip, peer_ip, forwarded_chain, trusted_hops, ... */
const getAuditFields = (req) => auditFields(clientInfo(req));

/** Express middleware: sets req.clientIp and req.clientInfo (optional: getClientIp works without it). */
const clientIpMiddleware = clientIp(trustPolicy);

/** A keyGenerator for express-rate-limit that keys on this policy's client, IPv6 by /56. */
const rateLimitKeyGenerator = (options) => keyGenerator(trustPolicy, options);

module.exports = {
    getClientIp,
    parseTrustProxy,
    getTrustProxyConfig,
    trustPolicy,
    clientIpMiddleware,
    getAuditFields,
    rateLimitKeyGenerator,
};
