"use strict";
// gitlab-ci-local evaluates `=~` / `!~` rules with `new RE2(pattern, flags)`; RegExp takes the same.
class RE2 extends RegExp {}
module.exports = RE2;
module.exports.default = RE2;
