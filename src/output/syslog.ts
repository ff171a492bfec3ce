/**
 * The ASA syslog lines alone, one per line, as a firewall would emit them. With `timestamps`, each
 * line gets the ASA `logging timestamp` prefix taken from the capture time (never wall time).
 */
import { TextFileOutput } from './text-file.js';
import { asaSyslogTime } from './time.js';

export class SyslogFileWriter {
  private readonly out: TextFileOutput;
  constructor(
    path: string,
    private readonly timestamps: boolean,
  ) {
    this.out = new TextFileOutput(path);
  }
  write(line: string, tsSec: number): void {
    this.out.writeLine(this.timestamps ? `${asaSyslogTime(tsSec)}: ${line}` : line);
  }
  get count(): number {
    return this.out.lines;
  }
  flush(): void {
    this.out.flush();
  }
  close(): void {
    this.out.close();
  }
}
