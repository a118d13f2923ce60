// The CommonJS entry (`require('qctl')`): the ES module itself, through Node's require(esm) (Node 20.19+,
// which package.json's engines asks for), so CommonJS and ESM callers share one instance of every class.
module.exports = require('./index.js')
