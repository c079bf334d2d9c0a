// app.js: one client for the whole mini program, so every page shares its token and its login.
// config.js holds the service's address: module.exports = { apiBaseUrl: 'https://api.example.com' }
const { createClient } = require('wechat-miniprogram-login-client');
const { apiBaseUrl } = require('./config');

App({
  api: createClient({ baseUrl: apiBaseUrl }),
});
