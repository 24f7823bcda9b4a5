import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { newDataSource } from '../test/fakes';
import type { SluiceQuery } from '../types';
import { QueryEditor } from './QueryEditor';

const FIELDS = {
  fields: [
    { name: 'source.ip', type: 'ip', searchable: true, aggregatable: true },
    { name: 'destination.port', type: 'long', searchable: true, aggregatable: true },
    { name: 'event.original', type: 'text', searchable: true, aggregatable: false },
  ],
};

function setup(
  query: SluiceQuery,
  check: Awaited<ReturnType<ReturnType<typeof newDataSource>['checkFilter']>> = { ok: true },
) {
  const datasource = newDataSource();
  jest.spyOn(datasource, 'getResource').mockResolvedValue(FIELDS);
  const checkFilter = jest.spyOn(datasource, 'checkFilter').mockResolvedValue(check);
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const view = render(
    <QueryEditor
      datasource={datasource}
      query={query}
      onChange={onChange}
      onRunQuery={onRunQuery}
    />,
  );
  return { datasource, onChange, onRunQuery, checkFilter, view };
}

const TS: SluiceQuery = {
  refId: 'A',
  kind: 'timeseries',
  metric: 'bytes',
  rate: true,
  filter: 'proto tcp',
};

describe('QueryEditor', () => {
  it('switches the query kind, keeping only keys the new kind has', async () => {
    const { onChange, onRunQuery } = setup({ ...TS, groupBy: ['source.ip'], interval: '1m' });
    await userEvent.click(screen.getByLabelText('Top N'));
    expect(onChange).toHaveBeenCalledWith({
      refId: 'A',
      kind: 'topn',
      metric: 'bytes',
      rate: true,
      filter: 'proto tcp',
      top: 10,
    });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('commits the filter when the box loses focus, and runs the query', async () => {
    const { onChange, onRunQuery } = setup(TS);
    const box = screen.getByLabelText('Filter');
    await userEvent.clear(box);
    await userEvent.type(box, 'dst port 443');
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.blur(box);
    expect(onChange).toHaveBeenCalledWith({ ...TS, filter: 'dst port 443' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it("shows the API's filter error with its column under the box", async () => {
    const { checkFilter } = setup(
      { ...TS, filter: 'proto tcp and prot udp' },
      { ok: false, column: 15, message: 'expected a filter primitive but found "prot"' },
    );
    expect(
      await screen.findByText('column 15: expected a filter primitive but found "prot"'),
    ).toBeInTheDocument();
    expect(checkFilter).toHaveBeenCalledWith('proto tcp and prot udp', undefined);
  });

  it('shows no error for a filter the API accepts', async () => {
    const { checkFilter } = setup(TS);
    await waitFor(() => expect(checkFilter).toHaveBeenCalled());
    expect(screen.queryByText(/column/)).not.toBeInTheDocument();
  });

  it('offers the aggregatable fields for group-by and stores the choice', async () => {
    const { onChange } = setup(TS);
    const select = screen.getByLabelText('Group by');
    await userEvent.click(select);
    expect(await screen.findByText('destination.port')).toBeInTheDocument();
    expect(screen.queryByText('event.original')).not.toBeInTheDocument();
    await userEvent.click(screen.getByText('source.ip'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, groupBy: ['source.ip'] });
  });

  it('sets metric, rate, raw, top and interval', async () => {
    const { onChange } = setup(TS);
    await userEvent.click(screen.getByLabelText('packets'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, metric: 'packets' });
    await userEvent.click(screen.getByLabelText('Per second'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, rate: false });
    await userEvent.click(screen.getByLabelText('Raw counts'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, raw: true });
    await userEvent.type(screen.getByLabelText('Top'), '5');
    fireEvent.blur(screen.getByLabelText('Top'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, top: 5 });
    await userEvent.type(screen.getByLabelText('Interval'), '5m');
    fireEvent.blur(screen.getByLabelText('Interval'));
    expect(onChange).toHaveBeenLastCalledWith({ ...TS, interval: '5m' });
  });

  it('does not run the query when a box loses focus unedited', async () => {
    const { onChange, onRunQuery } = setup({ ...TS, interval: '1m' });
    fireEvent.blur(screen.getByLabelText('Interval'));
    fireEvent.blur(screen.getByLabelText('Filter'));
    expect(onChange).not.toHaveBeenCalled();
    expect(onRunQuery).not.toHaveBeenCalled();
  });

  it('edits a records query: size', async () => {
    const q: SluiceQuery = { refId: 'A', kind: 'records', size: 100 };
    const { onChange } = setup(q);
    const size = screen.getByLabelText('Size');
    await userEvent.clear(size);
    await userEvent.type(size, '25');
    fireEvent.blur(size);
    expect(onChange).toHaveBeenLastCalledWith({ ...q, size: 25 });
  });

  it('edits a metrics query: PromQL, instant and step, with no filter box', async () => {
    const q: SluiceQuery = { refId: 'A', kind: 'metrics' };
    const { onChange } = setup(q);
    expect(screen.queryByLabelText('Filter')).not.toBeInTheDocument();
    const expr = screen.getByLabelText('PromQL');
    await userEvent.type(expr, 'up');
    fireEvent.blur(expr);
    expect(onChange).toHaveBeenLastCalledWith({ ...q, expr: 'up' });
    await userEvent.click(screen.getByLabelText('Instant'));
    expect(onChange).toHaveBeenLastCalledWith({ ...q, instant: true });
  });
});
