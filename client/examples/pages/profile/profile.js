// pages/profile/profile.js: today's profile flow (avatar button, nickname input, phone button).
// No login code anywhere: the first call logs in silently, a revoked token is renewed once.
const { isApiError } = require('wechat-miniprogram-login-client');
const { api } = getApp();

// What to tell the user, by the service's error code.
const MESSAGES = {
  CONTENT_RISKY: '内容未通过安全检查,请换一个',
  WECHAT_RATE_LIMITED: '操作太频繁,请稍后再试',
  NETWORK_ERROR: '网络不可用,请检查网络',
};

Page({
  data: { user: null, error: '' },

  async onLoad() {
    await this.run(async () => this.setData({ user: await api.me() }));
  },

  // <button open-type="chooseAvatar" bindchooseavatar="onChooseAvatar">
  async onChooseAvatar(e) {
    // user.avatarPending is true until WeChat's image check passes the new picture.
    await this.run(async () => this.setData({ user: await api.uploadAvatar(e.detail.avatarUrl) }));
  },

  // <input type="nickname" bindblur="onNicknameBlur">
  async onNicknameBlur(e) {
    await this.run(async () => this.setData({ user: await api.updateProfile({ nickname: e.detail.value }) }));
  },

  // <button open-type="getPhoneNumber" bindgetphonenumber="onGetPhoneNumber">, shown while !user.hasMobile
  async onGetPhoneNumber(e) {
    if (!e.detail.code) return; // the user declined
    await this.run(async () => {
      await api.bindPhone(e.detail.code);
      this.setData({ user: await api.me() });
    });
  },

  async onLogout() {
    await this.run(async () => {
      await api.logout();
      this.setData({ user: null });
    });
  },

  async run(action) {
    try {
      await action();
      this.setData({ error: '' });
    } catch (err) {
      this.setData({ error: (isApiError(err) && MESSAGES[err.code]) || '出错了,请稍后再试' });
    }
  },
});
