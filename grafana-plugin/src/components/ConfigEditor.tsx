import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import {
  Field,
  FieldSet,
  InlineField,
  InlineSwitch,
  Input,
  SecretInput,
  SecretTextArea,
} from '@grafana/ui';
import React from 'react';
import type { SluiceOptions, SluiceSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<SluiceOptions, SluiceSecureOptions>;

/**
 * Data source settings as pkg/plugin/settings.go reads them: jsonData.url, .tlsSkipVerify,
 * .tlsAuthWithCACert and .timeout; secureJsonData.apiToken and .tlsCACert, which the browser
 * can set or reset but never read back.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData } = options;
  const secureFields = options.secureJsonFields ?? {};
  const secure = options.secureJsonData ?? {};

  const setJson = (patch: Partial<SluiceOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  const setSecret = (key: keyof SluiceSecureOptions, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secure, [key]: value } });

  const resetSecret = (key: keyof SluiceSecureOptions) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureFields, [key]: false },
      secureJsonData: { ...secure, [key]: '' },
    });

  return (
    <>
      <FieldSet label="Sluice query API">
        <Field
          label="URL"
          description="the collector's query API, e.g. http://collector:9850"
          required
        >
          <Input
            aria-label="URL"
            width={50}
            value={jsonData.url ?? options.url ?? ''}
            placeholder="http://collector:9850"
            onChange={(e) => {
              const url = e.currentTarget.value;
              onOptionsChange({ ...options, url, jsonData: { ...jsonData, url } });
            }}
          />
        </Field>
        <Field
          label="API token"
          description="a bearer token from the collector's api.tokens; stored encrypted"
        >
          <SecretInput
            aria-label="API token"
            width={50}
            isConfigured={secureFields.apiToken === true}
            value={secure.apiToken ?? ''}
            placeholder="token"
            onChange={(e) => setSecret('apiToken', e.currentTarget.value)}
            onReset={() => resetSecret('apiToken')}
          />
        </Field>
        <Field label="Timeout" description="seconds for one API call (default 60)">
          <Input
            aria-label="Timeout"
            type="number"
            min={1}
            width={12}
            value={jsonData.timeout ?? ''}
            placeholder="60"
            onChange={(e) => {
              const n = Number(e.currentTarget.value);
              setJson({ timeout: e.currentTarget.value === '' || !(n > 0) ? undefined : n });
            }}
          />
        </Field>
      </FieldSet>
      <FieldSet label="TLS">
        <InlineField
          label="Skip TLS verify"
          labelWidth={26}
          tooltip="accept any server certificate (testing only)"
        >
          <InlineSwitch
            aria-label="Skip TLS verify"
            value={jsonData.tlsSkipVerify ?? false}
            onChange={(e) => setJson({ tlsSkipVerify: e.currentTarget.checked })}
          />
        </InlineField>
        <InlineField
          label="With CA certificate"
          labelWidth={26}
          tooltip="trust this CA for the server certificate"
        >
          <InlineSwitch
            aria-label="With CA certificate"
            value={jsonData.tlsAuthWithCACert ?? false}
            onChange={(e) => setJson({ tlsAuthWithCACert: e.currentTarget.checked })}
          />
        </InlineField>
        {jsonData.tlsAuthWithCACert && (
          <Field label="CA certificate" description="PEM, begins with -----BEGIN CERTIFICATE-----">
            <SecretTextArea
              aria-label="CA certificate"
              cols={60}
              rows={6}
              isConfigured={secureFields.tlsCACert === true}
              value={secure.tlsCACert ?? ''}
              placeholder="-----BEGIN CERTIFICATE-----"
              onChange={(e) => setSecret('tlsCACert', e.currentTarget.value)}
              onReset={() => resetSecret('tlsCACert')}
            />
          </Field>
        )}
      </FieldSet>
    </>
  );
}
