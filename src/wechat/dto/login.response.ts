import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../../users/dto/user.dto';

export class LoginResponse {
  @ApiProperty({ description: 'Bearer token for every guarded route (HS256 JWT)', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidmVyIjowfQ.signature' })
  token: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 604800 })
  expiresIn: number;

  @ApiProperty({ type: UserDto })
  user: UserDto;
}
