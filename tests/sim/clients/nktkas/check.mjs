// @nktkas/hyperliquid against a running `hlrebal sim serve`, with its testnet signing.
// Usage: node check.mjs http://127.0.0.1:3917 0xPRIVATE_KEY   (the key's address must be funded)
import { ExchangeClient, HttpTransport, InfoClient } from "@nktkas/hyperliquid";
import { privateKeyToAccount } from "viem/accounts";

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error("usage: node check.mjs SIM_URL PRIVATE_KEY");
  process.exit(2);
}
const transport = new HttpTransport({ isTestnet: true, apiUrl: url });
const info = new InfoClient({ transport });
const wallet = privateKeyToAccount(key);
const exchange = new ExchangeClient({ transport, wallet });
const user = wallet.address;
let failures = 0;

async function step(name, fn, check = () => true) {
  try {
    const result = await fn();
    const ok = check(result);
    console.log(`${ok ? "ok  " : "BAD "} ${name}: ${JSON.stringify(result).slice(0, 160)}`);
    if (!ok) failures++;
    return result;
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e?.constructor?.name} ${String(e?.message ?? e).slice(0, 300)}`);
    return undefined;
  }
}

const [meta] = await step("metaAndAssetCtxs", () => info.metaAndAssetCtxs(), (r) => r[0].universe.length > 0) ?? [];
const eth = meta.universe.findIndex((u) => u.name === "ETH");
const spot = await step("spotMeta", () => info.spotMeta(), (r) => r.tokens.every((t, i) => t.index === i));
await step("spotMetaAndAssetCtxs", () => info.spotMetaAndAssetCtxs(), (r) => r[1].length === r[0].universe.length);
await step("clearinghouseState", () => info.clearinghouseState({ user }), (r) => Number(r.marginSummary.accountValue) > 0);
await step("spotClearinghouseState", () => info.spotClearinghouseState({ user }));
await step("l2Book", () => info.l2Book({ coin: "ETH" }), (r) => r.levels[0].length === 20);
await step("allMids", () => info.allMids(), (r) => "@107" in r);
const placed = await step(
  "order Gtc",
  () => exchange.order({ orders: [{ a: eth, b: true, p: "3000", s: "0.5", r: false, t: { limit: { tif: "Gtc" } } }], grouping: "na" }),
  (r) => "resting" in r.response.data.statuses[0],
);
const oid = placed?.response.data.statuses[0].resting.oid;
const modified = await step(
  "batchModify",
  () => exchange.batchModify({ modifies: [{ oid, order: { a: eth, b: true, p: "2990", s: "0.6", r: false, t: { limit: { tif: "Gtc" } } } }] }),
  (r) => "resting" in r.response.data.statuses[0],
);
const newOid = modified?.response.data.statuses[0].resting.oid;
await step(
  "modify",
  () => exchange.modify({ oid: newOid, order: { a: eth, b: true, p: "2980", s: "0.6", r: false, t: { limit: { tif: "Gtc" } } } }),
);
const open = await step("openOrders", () => info.openOrders({ user }), (r) => r.length === 1 && r[0].limitPx === "2980.0");
await step("frontendOpenOrders", () => info.frontendOpenOrders({ user }), (r) => r.length === 1);
await step("cancel", () => exchange.cancel({ cancels: [{ a: eth, o: open?.[0]?.oid }] }), (r) => r.response.data.statuses[0] === "success");
await step(
  "order Ioc",
  () => exchange.order({ orders: [{ a: eth, b: true, p: "3100", s: "0.5", r: false, t: { limit: { tif: "Ioc" } } }], grouping: "na" }),
  (r) => "filled" in r.response.data.statuses[0],
);
await step("usdClassTransfer", () => exchange.usdClassTransfer({ amount: "100", toPerp: false }));
const hype = spot?.universe.find((u) => u.name === "@107");
await step(
  "spot order",
  () => exchange.order({ orders: [{ a: 10000 + hype.index, b: true, p: "39", s: "1", r: false, t: { limit: { tif: "Ioc" } } }], grouping: "na" }),
  (r) => "filled" in r.response.data.statuses[0],
);
await step("updateLeverage", () => exchange.updateLeverage({ asset: eth, isCross: true, leverage: 5 }));
const twap = await step("twapOrder", () => exchange.twapOrder({ twap: { a: eth, b: true, s: "0.1", r: false, m: 5, t: false } }), () => true);
const twapId = twap?.response.data.status.running?.twapId;
await step("twapCancel", () => exchange.twapCancel({ a: eth, t: twapId }));
await step("scheduleCancel", () => exchange.scheduleCancel({ time: Date.now() + 60_000 }));
await step("scheduleCancel clear", () => exchange.scheduleCancel({}));
await step("noop", () => exchange.noop());
await step("userFills", () => info.userFills({ user }), (r) => r.length >= 2);
await step("userFillsByTime", () => info.userFillsByTime({ user, startTime: Date.now() - 3_600_000 }), (r) => r.length >= 2);
await step("historicalOrders", () => info.historicalOrders({ user }), (r) => r.length >= 4);
await step("orderStatus", () => info.orderStatus({ user, oid }), (r) => r.status === "order");
await step("userTwapSliceFills", () => info.userTwapSliceFills({ user }));
await step("twapHistory", () => info.twapHistory({ user }), (r) => r.length >= 2);
await step("userRateLimit", () => info.userRateLimit({ user }), (r) => r.nRequestsUsed > 0);
await step("userFees", () => info.userFees({ user }));
await step("userRole", () => info.userRole({ user }), (r) => r.role === "user");
await step("candleSnapshot", () => info.candleSnapshot({ coin: "BTC", interval: "1h", startTime: Date.now() - 86_400_000 }), (r) => r.length >= 24);
await step("fundingHistory", () => info.fundingHistory({ coin: "BTC", startTime: Date.now() - 86_400_000 }), (r) => r.length >= 24);
await step("userFunding", () => info.userFunding({ user, startTime: 0 }));
await step("userNonFundingLedgerUpdates", () => info.userNonFundingLedgerUpdates({ user, startTime: 0 }), (r) => r.length >= 1);
await step("extraAgents", () => info.extraAgents({ user }));
await step("exchangeStatus", () => info.exchangeStatus());
console.log(failures === 0 ? "all steps passed" : `${failures} step(s) failed`);
process.exit(failures === 0 ? 0 : 1);
