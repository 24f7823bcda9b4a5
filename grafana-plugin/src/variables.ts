import {
  CustomVariableSupport,
  type DataQueryRequest,
  type DataQueryResponse,
} from '@grafana/data';
import { from, map, type Observable } from 'rxjs';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import type { SluiceQuery } from './types';

/**
 * Template variables from a `values` query: the values of one field over the dashboard's
 * time range, optionally narrowed by a filter and a prefix.
 */
export class SluiceVariableSupport extends CustomVariableSupport<DataSource, SluiceQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<SluiceQuery>): Observable<DataQueryResponse> {
    const target = request.targets[0];
    if (target === undefined) return from([{ data: [] }]);
    return from(this.datasource.variableValues(target, request.range, request.scopedVars)).pipe(
      map((data) => ({ data })),
    );
  }
}
