import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { initGpu } from './app/gpuSession';
import { bootTrainingScreen } from './app/boot';
import './ui/styles.css';

// The device is acquired outside React so that a re-render never creates a second one.
initGpu().catch(() => {
  /* the store already holds the reason; the UI shows the WebGPU help page */
});

bootTrainingScreen();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
