// A PAC file that allocates without bound (a cache that is never pruned, gone wrong).
var cache = [];
function FindProxyForURL(url, host) {
    var entry = host;
    while (true) {
        entry = entry + entry;
        cache.push(entry);
    }
}
