import type { AccessControl } from '../../ports/access-control';
import type { AwsPlaces } from '../../ports/aws-places';
import type { CommandRunner } from '../../ports/command-runner';
import type { Fleet } from '../../ports/fleet';

/** The sandbox's simulated AWS: the same simulated account answers for every place. */
export function simulatedPlaces(account: AccessControl & Fleet, commands: CommandRunner): AwsPlaces {
  return {
    simulated: true,
    access: () => account,
    fleet: () => account,
    commands: () => commands,
  };
}
