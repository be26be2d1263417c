/** Entry point: take the token out of the address bar before anything else runs, then render. */
import { render } from 'preact';
import { App } from './app';
import { takeTokenFromAddress } from './token';
import './styles.css';

const token = takeTokenFromAddress();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App initialToken={token} />, root);
}
