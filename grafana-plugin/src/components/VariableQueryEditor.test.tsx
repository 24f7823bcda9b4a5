import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { newDataSource } from '../test/fakes';
import type { SluiceQuery } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

function setup(query: SluiceQuery) {
  const datasource = newDataSource();
  jest.spyOn(datasource, 'getResource').mockResolvedValue({
    fields: [
      { name: 'observer.name', type: 'keyword', searchable: true, aggregatable: true },
      { name: 'event.original', type: 'text', searchable: true, aggregatable: false },
    ],
  });
  const onChange = jest.fn();
  render(
    <VariableQueryEditor
      datasource={datasource}
      query={query}
      onChange={onChange}
      onRunQuery={() => {}}
    />,
  );
  return onChange;
}

describe('VariableQueryEditor', () => {
  it('picks the field from the field list, storing a values query', async () => {
    const onChange = setup({ refId: 'v', kind: 'values' });
    await userEvent.click(screen.getByLabelText('Field'));
    await userEvent.click(await screen.findByText('observer.name'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'v',
      kind: 'values',
      field: 'observer.name',
    });
  });

  it('sets filter, prefix and size, and drops them when cleared', async () => {
    const q: SluiceQuery = { refId: 'v', kind: 'values', field: 'observer.name', prefix: 'old' };
    const onChange = setup(q);
    await userEvent.type(screen.getByLabelText('Filter'), 'proto udp');
    fireEvent.blur(screen.getByLabelText('Filter'));
    expect(onChange).toHaveBeenLastCalledWith({ ...q, filter: 'proto udp' });
    await userEvent.clear(screen.getByLabelText('Prefix'));
    fireEvent.blur(screen.getByLabelText('Prefix'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'v',
      kind: 'values',
      field: 'observer.name',
    });
    await userEvent.type(screen.getByLabelText('Size'), '20');
    fireEvent.blur(screen.getByLabelText('Size'));
    expect(onChange).toHaveBeenLastCalledWith({ ...q, size: 20 });
  });
});
