/**
 * An error boundary that records what its children throw while rendering as an exception in the active trace
 * (`exception.type`, `exception.message`, `exception.stacktrace`, and `react.component_stack`: where in the
 * component tree it happened), then shows `fallback`. Inside a `<RumkitProvider>` or around it (a boundary
 * around the whole app): either way it records through the agent the provider started.
 *
 *     <RumkitErrorBoundary fallback={({ error, reset }) => <p>Failed: {error.message} <button onClick={reset}>Retry</button></p>}>
 *       <Invoice />
 *     </RumkitErrorBoundary>
 */
import { Component, type ContextType, type ErrorInfo, type ReactNode } from 'react';
import { RumkitContext } from './rumkitContext.ts';
import { pageAgent } from './startAgentOnce.ts';

export interface FallbackProps {
  error: Error;
  /** Renders the children again. */
  reset: () => void;
}

export interface RumkitErrorBoundaryProps {
  fallback: ReactNode | ((props: FallbackProps) => ReactNode);
  /** Called after the error was recorded, e.g. to report it elsewhere too. */
  onError?: (error: Error, info: ErrorInfo) => void;
  children?: ReactNode;
}

export class RumkitErrorBoundary extends Component<RumkitErrorBoundaryProps, { error: Error | undefined }> {
  static override contextType = RumkitContext;
  declare context: ContextType<typeof RumkitContext>;
  override state = { error: undefined as Error | undefined };

  static getDerivedStateFromError(thrown: unknown) {
    return { error: asError(thrown) };
  }

  override componentDidCatch(thrown: unknown, info: ErrorInfo) {
    // What was thrown need not be an Error (`throw { code: 42 }`): the agent records it as it is (its type, an
    // object as JSON), where a wrapper would say `Error: [object Object]` with a stack inside React. onError gets
    // the Error that fallback gets, which getDerivedStateFromError put in the state this fallback was rendered with.
    // A boundary around the whole app sits above the provider, out of its context: it records through the agent
    // the provider started, since React 19 no longer hands caught errors to the page's error listeners.
    const agent = this.context ?? pageAgent();
    agent?.recordError(thrown, info.componentStack ? { 'react.component_stack': info.componentStack } : {});
    this.props.onError?.(this.state.error ?? asError(thrown), info);
  }

  reset = () => this.setState({ error: undefined });

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const { fallback } = this.props;
    return typeof fallback === 'function' ? fallback({ error, reset: this.reset }) : fallback;
  }
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
