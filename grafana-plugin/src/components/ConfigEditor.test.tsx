import type { DataSourceSettings } from '@grafana/data';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import type { SluiceOptions, SluiceSecureOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Settings = DataSourceSettings<SluiceOptions, SluiceSecureOptions>;

function settings(patch: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'sluice',
    orgId: 1,
    name: 'Sluice',
    type: 'sluice-flows-datasource',
    typeName: 'Sluice Flows',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: {},
    secureJsonFields: {},
    ...patch,
  } as Settings;
}

function setup(options: Settings) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={options} onOptionsChange={onOptionsChange} />);
  return onOptionsChange;
}

describe('ConfigEditor', () => {
  it('stores the API URL in jsonData.url', () => {
    const change = setup(settings());
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'https://collector:9850' } });
    const next = change.mock.lastCall[0] as Settings;
    expect(next.jsonData.url).toBe('https://collector:9850');
    expect(next.url).toBe('https://collector:9850');
  });

  it('stores the token in secureJsonData only', () => {
    const change = setup(settings());
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 's3cret' } });
    const next = change.mock.lastCall[0] as Settings;
    expect(next.secureJsonData).toEqual({ apiToken: 's3cret' });
    expect(JSON.stringify(next.jsonData)).not.toContain('s3cret');
  });

  it('shows a configured token without its value and can reset it', async () => {
    const change = setup(settings({ secureJsonFields: { apiToken: true } }));
    expect(screen.getByLabelText('API token')).toHaveValue('configured');
    await userEvent.click(screen.getAllByRole('button', { name: 'Reset' })[0] as HTMLElement);
    const next = change.mock.lastCall[0] as Settings;
    expect(next.secureJsonFields.apiToken).toBe(false);
    expect(next.secureJsonData?.apiToken).toBe('');
  });

  it('sets the TLS switches the backend reads', async () => {
    const change = setup(settings());
    await userEvent.click(screen.getByLabelText('Skip TLS verify'));
    expect((change.mock.lastCall[0] as Settings).jsonData.tlsSkipVerify).toBe(true);
    await userEvent.click(screen.getByLabelText('With CA certificate'));
    expect((change.mock.lastCall[0] as Settings).jsonData.tlsAuthWithCACert).toBe(true);
  });

  it('asks for the CA certificate only with the CA switch on, into secureJsonData', () => {
    setup(settings());
    expect(screen.queryByLabelText('CA certificate')).not.toBeInTheDocument();
    const change = jest.fn();
    render(
      <ConfigEditor
        options={settings({ jsonData: { tlsAuthWithCACert: true } })}
        onOptionsChange={change}
      />,
    );
    fireEvent.change(screen.getByLabelText('CA certificate'), {
      target: { value: '-----BEGIN CERTIFICATE-----' },
    });
    expect((change.mock.lastCall[0] as Settings).secureJsonData).toEqual({
      tlsCACert: '-----BEGIN CERTIFICATE-----',
    });
  });

  it('stores the timeout as a number of seconds', () => {
    const change = setup(settings());
    fireEvent.change(screen.getByLabelText('Timeout'), { target: { value: '30' } });
    expect((change.mock.lastCall[0] as Settings).jsonData.timeout).toBe(30);
  });
});
