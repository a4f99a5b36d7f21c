// The functions a PAC file may call, as Netscape defined them and browsers provide them,
// written for pinprobe. Name lookups and the machine's address come from Rust (__pacHost);
// everything else is plain JavaScript. The clock is the machine's, unless __pacHost.clock fixes
// it as [milliseconds since the epoch, minutes east of UTC] (tests, reproducible runs).

var __pac = (function (host) {
  "use strict";

  var DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
  var MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

  // Dotted quad to an unsigned 32-bit number, or null when it is not one.
  function quad(text) {
    var parts = String(text).split(".");
    if (parts.length !== 4) return null;
    var n = 0;
    for (var i = 0; i < 4; i++) {
      if (!/^[0-9]{1,3}$/.test(parts[i])) return null;
      var b = Number(parts[i]);
      if (b > 255) return null;
      n = n * 256 + b;
    }
    return n;
  }

  // Glob match with * (any run) and ? (one character), everything else literal. Greedy with
  // one backtrack point, so a hostile pattern costs O(len(text) * len(pattern)) at most.
  function glob(text, pattern) {
    var t = 0, p = 0, star = -1, mark = 0;
    while (t < text.length) {
      if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
        t++; p++;
      } else if (p < pattern.length && pattern[p] === "*") {
        star = p++; mark = t;
      } else if (star >= 0) {
        p = star + 1; t = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length && pattern[p] === "*") p++;
    return p === pattern.length;
  }

  // The addresses of a name from Rust: one IPv4 address, or all joined by ";"; null if none.
  function resolve(name, all) {
    var found = host.resolve(String(name), all);
    return typeof found === "string" ? found : null;
  }

  // The current time as a Date whose UTC fields are the wanted wall clock (local or GMT).
  function clock(gmt) {
    var fixed = host.clock;
    var now = fixed ? fixed[0] : Date.now();
    var offset = gmt ? 0 : fixed ? fixed[1] : -new Date(now).getTimezoneOffset();
    return new Date(now + offset * 60000);
  }

  // Strips a trailing "GMT" argument: [arguments without it, whether it was there].
  function gmtArgs(args) {
    var list = Array.prototype.slice.call(args);
    var gmt = list.length > 0 && String(list[list.length - 1]).toUpperCase() === "GMT";
    if (gmt) list.pop();
    return [list, gmt];
  }

  // Inclusive range that wraps when lo > hi (FRI..MON, DEC..FEB, 22h..6h).
  function within(value, lo, hi) {
    return lo <= hi ? lo <= value && value <= hi : value >= lo || value <= hi;
  }

  function weekday(name) {
    var i = DAYS.indexOf(String(name).toUpperCase());
    if (i < 0) throw new TypeError("weekdayRange: \"" + name + "\" is not a day (SUN..SAT)");
    return i;
  }

  // A dateRange argument: {kind: "day"|"month"|"year", value}.
  function datePart(arg) {
    var month = MONTHS.indexOf(String(arg).toUpperCase());
    if (month >= 0) return { kind: "month", value: month };
    var text = String(arg);
    if (/^[0-9]+$/.test(text)) {
      var n = Number(text);
      if (n >= 1 && n <= 31) return { kind: "day", value: n };
      if (n >= 1000) return { kind: "year", value: n };
    }
    throw new TypeError("dateRange: \"" + arg + "\" is not a day (1..31), month (JAN..DEC) or year");
  }

  function intArg(name, arg, max) {
    var text = String(arg);
    if (!/^[0-9]+$/.test(text) || Number(text) > max) {
      throw new TypeError(name + ": \"" + arg + "\" is not a number from 0 to " + max);
    }
    return Number(text);
  }

  return {
    isPlainHostName: function (h) {
      return String(h).indexOf(".") < 0;
    },

    dnsDomainIs: function (h, domain) {
      h = String(h).toLowerCase();
      domain = String(domain).toLowerCase();
      return h.length >= domain.length && h.substring(h.length - domain.length) === domain;
    },

    localHostOrDomainIs: function (h, hostdom) {
      h = String(h).toLowerCase();
      hostdom = String(hostdom).toLowerCase();
      if (h === hostdom) return true;
      return h.indexOf(".") < 0 && hostdom.substring(0, h.length + 1) === h + ".";
    },

    dnsResolve: function (h) {
      return resolve(h, false);
    },

    dnsResolveEx: function (h) {
      var all = resolve(h, true);
      return all === null ? "" : all;
    },

    isResolvable: function (h) {
      return resolve(h, false) !== null;
    },

    isResolvableEx: function (h) {
      return resolve(h, true) !== null;
    },

    myIpAddress: function () {
      return host.myAddress();
    },

    myIpAddressEx: function () {
      return host.myAddress();
    },

    isInNet: function (h, pattern, mask) {
      var addr = quad(h);
      if (addr === null) {
        var resolved = resolve(h, false);
        addr = resolved === null ? null : quad(resolved);
      }
      var net = quad(pattern), bits = quad(mask);
      if (addr === null || net === null || bits === null) return false;
      // the >>> 0 keeps the results unsigned, as the operands are
      return ((addr & bits) >>> 0) === ((net & bits) >>> 0);
    },

    isInNetEx: function (h, prefix) {
      var slash = String(prefix).split("/");
      if (slash.length !== 2) return false;
      return host.inPrefix(String(h), slash[0], Number(slash[1]));
    },

    convertAddr: function (ip) {
      var n = quad(ip);
      return n === null ? 0 : n;
    },

    dnsDomainLevels: function (h) {
      return String(h).split(".").length - 1;
    },

    shExpMatch: function (text, pattern) {
      return glob(String(text), String(pattern));
    },

    weekdayRange: function () {
      var parsed = gmtArgs(arguments), args = parsed[0];
      if (args.length < 1 || args.length > 2) {
        throw new TypeError("weekdayRange: expected 1 or 2 days and an optional \"GMT\"");
      }
      var today = clock(parsed[1]).getUTCDay();
      var lo = weekday(args[0]);
      var hi = args.length === 2 ? weekday(args[1]) : lo;
      return within(today, lo, hi);
    },

    dateRange: function () {
      var parsed = gmtArgs(arguments), args = parsed[0];
      var now = clock(parsed[1]);
      var parts = args.map(datePart);
      var kinds = parts.map(function (p) { return p.kind; }).join(",");
      var current = {
        day: now.getUTCDate(), month: now.getUTCMonth(), year: now.getUTCFullYear()
      };
      // a point in time as one comparable number, from the parts that are given
      function key(ps) {
        var k = { day: 0, month: 0, year: 0 };
        ps.forEach(function (p) { k[p.kind] = p.value; });
        return k.year * 10000 + k.month * 100 + k.day;
      }
      function currentKey(ps) {
        return key(ps.map(function (p) { return { kind: p.kind, value: current[p.kind] }; }));
      }
      var lo, hi;
      switch (kinds) {
        case "day": case "month": case "year":
          lo = hi = parts;
          break;
        case "day,day": case "month,month": case "year,year":
          lo = [parts[0]]; hi = [parts[1]];
          break;
        case "day,month,day,month": case "month,year,month,year":
          lo = parts.slice(0, 2); hi = parts.slice(2);
          break;
        case "day,month,year,day,month,year":
          lo = parts.slice(0, 3); hi = parts.slice(3);
          break;
        default:
          throw new TypeError("dateRange: cannot read the arguments (" +
            (kinds || "none") + "); expected day, month, year, or pairs of them");
      }
      var value = currentKey(lo);
      // ranges with a year never wrap; ranges of days or months do (DEC..FEB)
      if (kinds.indexOf("year") >= 0) return key(lo) <= value && value <= key(hi);
      return within(value, key(lo), key(hi));
    },

    timeRange: function () {
      var parsed = gmtArgs(arguments), args = parsed[0];
      var n = args.length;
      if (n !== 1 && n !== 2 && n !== 4 && n !== 6) {
        throw new TypeError("timeRange: expected 1, 2, 4 or 6 numbers and an optional \"GMT\"");
      }
      // each half of the arguments is hour[, minute[, second]]
      var half = n === 1 ? 1 : n / 2;
      var a = args.map(function (x, i) {
        return intArg("timeRange", x, i % half === 0 ? 24 : 59);
      });
      var now = clock(parsed[1]);
      var seconds = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
      if (n === 1) return now.getUTCHours() === a[0];
      if (n === 2) {
        // whole hours: 9 to 17 is 9:00:00 to 17:59:59
        return within(seconds, a[0] * 3600, a[1] * 3600 + 3599);
      }
      if (n === 4) return within(seconds, a[0] * 3600 + a[1] * 60, a[2] * 3600 + a[3] * 60 + 59);
      return within(seconds, a[0] * 3600 + a[1] * 60 + a[2], a[3] * 3600 + a[4] * 60 + a[5]);
    },

    alert: function () {}
  };
})(__pacHost);

var isPlainHostName = __pac.isPlainHostName;
var dnsDomainIs = __pac.dnsDomainIs;
var localHostOrDomainIs = __pac.localHostOrDomainIs;
var dnsResolve = __pac.dnsResolve;
var dnsResolveEx = __pac.dnsResolveEx;
var isResolvable = __pac.isResolvable;
var isResolvableEx = __pac.isResolvableEx;
var myIpAddress = __pac.myIpAddress;
var myIpAddressEx = __pac.myIpAddressEx;
var isInNet = __pac.isInNet;
var isInNetEx = __pac.isInNetEx;
var convertAddr = __pac.convertAddr;
var dnsDomainLevels = __pac.dnsDomainLevels;
var shExpMatch = __pac.shExpMatch;
var weekdayRange = __pac.weekdayRange;
var dateRange = __pac.dateRange;
var timeRange = __pac.timeRange;
var alert = __pac.alert;
