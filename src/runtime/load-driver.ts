/** The driver of a container's configuration, loaded only when asked for (each brings its own modules). */
import type { Config } from '../settings/params.js';
import type { ContainerDriver } from './driver.js';

export async function loadDriver(config: Config): Promise<ContainerDriver> {
  switch (config.driver) {
    case 'native': {
      const { NativeDriver } = await import('./native/native-driver.js');
      return new NativeDriver(config);
    }
    case 'lxc': {
      const { LxcDriver } = await import('./lxc/lxc-driver.js');
      return new LxcDriver(config);
    }
    case 'podman': {
      const { PodmanDriver } = await import('./podman/podman-driver.js');
      return new PodmanDriver(config);
    }
  }
}
