import { describe, expect, it } from 'vitest';
import { cloudSettings, EMULATOR_ENV } from '../../engine/cloud/cloud-settings.js';

describe('cloudSettings', () => {
  it('selects a local storage server by the conventional STORAGE_EMULATOR_HOST, without credentials', () => {
    expect(cloudSettings({ STORAGE_EMULATOR_HOST: '127.0.0.1:4443' })).toMatchObject({
      storageEndpoint: 'http://127.0.0.1:4443',
      authenticate: false,
    });
  });

  it('keeps STRAND_GCS_EMULATOR_HOST as an alias, and the conventional name wins when both are set', () => {
    expect(cloudSettings({ STRAND_GCS_EMULATOR_HOST: 'http://alias:1/' }).storageEndpoint).toBe('http://alias:1');
    expect(
      cloudSettings({ STRAND_GCS_EMULATOR_HOST: 'http://alias:1', STORAGE_EMULATOR_HOST: 'http://conventional:2' }).storageEndpoint,
    ).toBe('http://conventional:2');
  });

  it('connects to Google, authenticated, when no name is set or every one is empty', () => {
    const empty = Object.fromEntries(EMULATOR_ENV.storage.map((name) => [name, '']));
    for (const env of [{}, empty]) {
      expect(cloudSettings(env).storageEndpoint).toBeUndefined();
      expect(cloudSettings(env).authenticate).toBe(true);
    }
  });
});
